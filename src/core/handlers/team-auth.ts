/**
 * Handlers of team review's people and trail (src/shared/contract-team-auth.ts): who is signed in,
 * the team's users and the audit trail. Service.call has checked the caller's role already.
 */
import type { HandlerGroup } from './context';
import { listAudit } from '../team/audit';
import {
  createUser,
  disableUser,
  listUsers,
  resetUserSecrets,
  type NewUserSecrets,
} from '../team/users';

/** The answer of add and reset: the secrets, and the user as the contract shows it. */
function secrets(result: NewUserSecrets) {
  return { user: result.user, password: result.password, token: result.token };
}

export const teamAuthHandlers: HandlerGroup = {
  'auth.me': (_input, _context, caller) => ({
    user:
      caller.kind === 'user' ? { id: caller.userId, name: caller.name, role: caller.role } : null,
  }),
  'users.list': (_input, context) => listUsers(context.project().db),
  'users.add': async (input, context) =>
    secrets(await createUser(context.project().db, input.name, input.role)),
  'users.disable': (input, context, caller) => {
    const user = disableUser(context.project().db, input.name);
    context.emit('team.sessionsEnded', { userId: user.id }, caller);
    return user;
  },
  'users.reset': async (input, context, caller) => {
    const result = await resetUserSecrets(context.project().db, input.name);
    context.emit('team.sessionsEnded', { userId: result.user.id }, caller);
    return secrets(result);
  },
  'audit.list': (input, context) => listAudit(context.project().db, input ?? {}),
};
