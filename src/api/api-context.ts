import type { AppContext } from '../services/app-services.js';
import type { Principal } from '../services/auth/logon-sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the session hook on every non-public route. */
    principal?: Principal;
  }
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
  }
  interface FastifyContextConfig {
    /** Reachable without a logon session (entry point, logon, health). Every other route needs one. */
    public?: boolean;
  }
}

/** What the API layer is handed: the application context with its services. */
export type ApiContext = AppContext;
