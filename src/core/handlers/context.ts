/**
 * The types every handler group shares: the service's options, what a handler sees of the
 * service, and the handler table's shape. A leaf of the handlers layer, so handlers never import
 * core/service.ts, which composes them.
 */
import type {
  BackendChoice,
  EventName,
  EventPayload,
  MethodInput,
  MethodName,
  MethodOutput,
} from '../../shared/contract';
import type { JobControl } from '../job-reporter';
import type { MlContext } from '../ml/ml-context';
import type { WorkerLauncher } from '../ml/worker-host';
import type { ProjectStore } from '../project/store';
import type { SecretStore } from '../pacs/connections';
import type { Caller } from '../team/caller';

export interface ServiceOptions {
  projectDir?: string | null;
  transport: 'electron' | 'http';
  electronVersion?: string | null;
  backend?: BackendChoice;
  workerLauncher?: WorkerLauncher;
  /** Native folder picker (Electron's dialog); absent in browser mode, where paths are typed. */
  pickFolder?: () => Promise<string | null>;
  /** Open `projectDir` read-only, and why (a network folder, `--read-only`, a reader command). */
  projectReadOnly?: string;
  /** With projectReadOnly: read it into memory once, touching nothing in its folder. */
  projectInMemory?: boolean;
  /**
   * Where PACS passwords and tokens of a project are kept: Electron's safeStorage where the OS has
   * a keychain; absent, an owner-only file per connection in the project (`.secrets/`).
   */
  secretStore?: (projectDir: string) => SecretStore;
}

/** What handler groups see of the service (core/service.ts is the one implementation). */
export interface ServiceContext extends MlContext {
  readonly options: ServiceOptions;
  projectOrNull(): ProjectStore | null;
  openProject(dir: string, options?: { readOnly?: string; inMemory?: boolean }): ProjectStore;
  readonly jobs: JobControl;
  /**
   * Sends an event to every listener; `origin` is the caller whose request caused it (a handler
   * passes its caller; absent: the host), which the event socket's blind rule needs
   * (core/team/visibility.ts `eventFor`: a reader hears of their own saves, not of another's).
   */
  emit<E extends EventName>(event: E, payload: EventPayload<E>, origin?: Caller | null): void;
}

/**
 * A method's implementation. `caller` says who asks (core/team/caller.ts); Service.call has
 * already checked that their role may call the method at all.
 */
export type Handler<M extends MethodName> = (
  input: MethodInput<M>,
  context: ServiceContext,
  caller: Caller,
) => Promise<MethodOutput<M>> | MethodOutput<M>;

export type HandlerGroup = { [M in MethodName]?: Handler<M> };
