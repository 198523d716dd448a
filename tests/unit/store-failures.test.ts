// Which errors are "a store is unavailable" (503 with Retry-After) rather than a bug (500): every
// reply a Redis Cluster, a Sentinel failover or a struggling Redis gives, and the client's own
// connection failures; never a programming error such as WRONGTYPE or a syntax error.
import { describe, expect, it } from '@jest/globals';
import { ReplyError } from 'ioredis';
import { backingServiceFailure, StoreReplyError } from '../../src/storage/failures.ts';
import { RotationPendingError } from '../../src/oidc/adapters/redemption.ts';

const reply = (message: string) => new ReplyError(message);

describe('backingServiceFailure', () => {
  it.each([
    'MOVED 16147 127.0.0.1:7002',
    'ASK 3999 127.0.0.1:7001',
    'CLUSTERDOWN The cluster is down',
    'CLUSTERDOWN Hash slot not served',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'LOADING Redis is loading the dataset in memory',
    "READONLY You can't write against a read only replica.",
    'NOREPLICAS Not enough good replicas to write.',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.',
    "OOM command not allowed when used memory > 'maxmemory'.",
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
    'EXECABORT Transaction discarded because of previous errors.',
    // a script's error quoting the reply its redis.call got (Redis 6)
    "ERR Error running script (call to f_0123): @user_script:7: @user_script: 7: -READONLY You can't write against a read only replica.",
  ])('an error reply %s is Redis being unavailable', (message) => {
    expect(backingServiceFailure(reply(message))).toBe('redis');
  });

  it.each([
    'Too many Cluster redirections. Last error: ReplyError: MOVED 866 127.0.0.1:7003',
    'None of startup nodes is available',
    "Cluster isn't ready and enableOfflineQueue options is false",
    'Failed to refresh slots cache.',
    'Command aborted due to connection close',
    "Socket timeout. Expecting data, but didn't receive any in 2000ms.",
    "Stream isn't writeable and enableOfflineQueue options is false",
    'Command timed out',
    'Connection is closed.',
  ])('the client failure "%s" is Redis being unavailable', (message) => {
    expect(backingServiceFailure(new Error(message))).toBe('redis');
  });

  it('an aborted transaction is classified by the replies that aborted it', () => {
    const moved = Object.assign(reply('EXECABORT Transaction discarded because of previous errors.'), { previousErrors: [reply('MOVED 1 127.0.0.1:7001')] });
    expect(backingServiceFailure(moved)).toBe('redis');
    const bug = Object.assign(reply('EXECABORT Transaction discarded because of previous errors.'), { previousErrors: [reply("ERR wrong number of arguments for 'set' command")] });
    expect(backingServiceFailure(bug)).toBeUndefined();
  });

  it('a reply that is not the reply to what was sent, and a rotation in flight, are store failures', () => {
    expect(backingServiceFailure(new StoreReplyError('MULTI'))).toBe('redis');
    expect(backingServiceFailure(new RotationPendingError('postgres'))).toBe('postgres');
  });

  it.each([
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    "ERR unknown command 'FOO'",
    'NOSCRIPT No matching script. Please use EVAL.',
    'Cannot read properties of undefined (reading \'ASK\')',
    'TASK failed',
  ])('a bug is not: %s', (message) => {
    expect(backingServiceFailure(reply(message))).toBeUndefined();
  });
});

describe('an aborted transaction that lists itself among its causes', () => {
  it('is classified by its own message, without endless recursion', () => {
    // ioredis (transaction.js) puts the connection's error into its own previousErrors
    const err = Object.assign(new Error('Connection is closed.'), { previousErrors: [] as unknown[] });
    err.previousErrors.push(err);
    expect(backingServiceFailure(err)).toBe('redis');
  });
});
