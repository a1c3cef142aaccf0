// secure-session.d.ts: what @fastify/flash's types import from @fastify/secure-session.
declare module '@fastify/secure-session' {
  interface SessionData {}
}
