import type { AreaPlugin } from './build-api.js';

/** Every Enterprise Manager API area openem serves beyond the entry point and logon, in registration order. */
export const API_AREAS: AreaPlugin[] = [];
