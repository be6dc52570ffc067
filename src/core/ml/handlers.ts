/** Handlers of this room's contract methods (see src/shared/contract-*.ts). */
import type { HandlerGroup } from '../service';

export const mlHandlers: HandlerGroup = {};
