/**
 * The benchmark's fixed settings: the client registered at the bench provider, the
 * bench users, the load shape and the targets. One place, so every module agrees.
 *
 * @packageDocumentation
 */

/** The client id every site uses at the bench provider. */
export const CLIENT_ID = 'bench-client'

/** The client secret: authenticates the code exchange and keys the HS256 ID tokens. */
export const CLIENT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef'

/** The secret express-session signs its cookie with, on every site. */
export const SESSION_SECRET = 'bench-session-secret'

/** The session cookie name, on every site. */
export const SESSION_COOKIE = 'bench.sid'

/** What the name of a JustpassStrategy flow cookie starts with, on an http callback URL. */
export const FLOW_COOKIE_PREFIX = 'justpass.'

/** The users every site knows; the bench logs them in in turn. */
export const BENCH_USERS: readonly string[] = Array.from({ length: 100 }, (_, i) => `user${i}`)

/** The `max_age` (seconds) both strategies send and check `auth_time` against. */
export const MAX_AGE = 60

/** Where a successful login is redirected to, on the A and B sites. */
export const SUCCESS_REDIRECT = '/welcome'

/** Where a refused login is redirected to, on the A and B sites. */
export const FAILURE_REDIRECT = '/login?failed=1'

/** The load shape and the number of rounds of each measurement. */
export const LOAD = {
  /** Concurrent keep-alive connections per autocannon run. */
  connections: 10,
  /** Seconds of each measured run. */
  roundSeconds: 3,
  /** Seconds of the initiation warm-up run of each contender, before any measured one. */
  warmupSeconds: 2,
  /** Seconds of the full-login warm-up run of each contender: the callback path has more to compile. */
  loginWarmupSeconds: 5,
  /** Measured rounds of each measurement; each round runs every contender once. */
  rounds: 5,
  /** Head-to-head rounds of each pair the targets compare; each round loads both at once. */
  headToHeadRounds: 10,
  /** Seconds of each head-to-head round. */
  headToHeadSeconds: 2,
  /** Flows started by one visitor (one cookie jar) to measure the bytes each pending flow costs. */
  pendingFlows: 5,
  /** Completed logins before the first heap reading, and in all before the second. */
  heapCheckpoints: [1_000, 10_000] as const,
  /** Connections of the heap runs: no timing is taken from them, so more, to finish sooner. */
  heapConnections: 25,
  /** Measured rounds of initiation and of full login with the sessions in Redis; each round runs A and B once. */
  redisRounds: 3,
  /** Seconds of the initiation, then of the full-login, warm-up of each contender with the sessions in Redis. */
  redisWarmupSeconds: 2,
} as const

/** The targets the run reports PASS or FAIL for. */
export const TARGETS = {
  /** JustpassStrategy / openid-client, initiation requests/s (medians of the runs alone), at least. */
  initiationVsOpenidClient: 1.25,
  /** JustpassStrategy / openid-client, completed logins/s (medians of the runs alone), at least. */
  loginVsOpenidClient: 1.0,
  /** JustpassStrategy / floor, initiation requests/s (medians of the runs alone), at least. */
  initiationVsFloor: 0.75,
  /** JustpassStrategy / openid-client, completed logins/s, median of the head-to-head rounds, at least. */
  loginVsOpenidClientHeadToHead: 1.0,
} as const
