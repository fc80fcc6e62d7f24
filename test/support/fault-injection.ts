import { InternalServerError, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { InternalErrorException } from '@aws-sdk/client-sns';
import { WAFInternalErrorException } from '@aws-sdk/client-wafv2';

type Service = 'dynamodb' | 'waf' | 'sns';

type Next = (args: { input: any }) => Promise<any>;
type Middleware = (next: Next, context: { commandName?: string }) => Next;

/** Any SDK client: only its middleware stack is touched (its types live in @smithy/types, not a dependency here). */
interface WithStack {
  readonly middlewareStack: { add(middleware: Middleware, options: { step: 'initialize'; priority: 'high' | 'low'; name: string }): void };
}

/** What the SDK throws once its own retries are spent: the error class of the service, with a 5xx status. */
function serviceError(service: Service, call: number): Error {
  const $metadata = { httpStatusCode: 500, requestId: `fault-${call}`, attempts: 3, totalRetryDelay: 350 };
  switch (service) {
    case 'dynamodb':
      return call % 2 === 0
        ? new ProvisionedThroughputExceededException({ $metadata, message: 'The level of configured provisioned throughput for the table was exceeded.' })
        : new InternalServerError({ $metadata, message: 'Internal server error' });
    case 'waf':
      return new WAFInternalErrorException({ $metadata, message: 'AWS WAF couldn’t perform the operation because of a system problem. Retry your request.' });
    case 'sns':
      return new InternalErrorException({ $metadata, message: 'Request could not be completed.' });
  }
}

/** Thrown at and after the crash point: the run's process is gone, nothing it sends arrives. */
export class SimulatedCrash extends Error {
  public readonly name = 'SimulatedCrash';
}

/**
 * Counts every call the code sends, across all clients it is attached to, and fails the Nth. Sits first in the
 * initialize step, before the SDK's retry middleware, so the code sees the error the SDK would surface after retrying.
 * In crash mode the run stops at call N: that call and every later one of the same run never reach the service.
 */
export class FaultInjector {
  public calls = 0;
  /** The call that failed, with its service and command, once it has. */
  public injected?: string;
  private failAt = 0;
  private crash = false;
  private dead = false;

  /** Fails call `n` (1-based, counted from now); 0 for none. */
  public arm(n: number, crash: boolean): void {
    this.calls = 0;
    this.failAt = n;
    this.crash = crash;
    this.injected = undefined;
    this.dead = false;
  }

  /** A new sync run (a new Lambda invocation): a crashed process does not carry over. */
  public beginRun(): void {
    this.dead = false;
  }

  public attach(client: WithStack, service: Service): void {
    const middleware: Middleware = (next, context) => async (args) => {
      if (this.dead) throw new SimulatedCrash('the run was stopped');
      const call = ++this.calls;
      if (call === this.failAt) {
        this.injected = `${service} ${context.commandName ?? '?'}`;
        if (this.crash) {
          this.dead = true;
          throw new SimulatedCrash(`the run stopped at call ${call}`);
        }
        throw serviceError(service, call);
      }
      return next(args);
    };
    client.middlewareStack.add(middleware, { step: 'initialize', priority: 'high', name: 'faultInjection' });
  }
}

/**
 * Answers a client's commands from a fake, as the last middleware of the initialize step. aws-sdk-client-mock stubs
 * `send` itself, which would skip the fault middleware; this keeps the whole middleware path up to the wire.
 */
export function serveFromFake(client: WithStack, answer: (commandName: string, input: any) => unknown): void {
  client.middlewareStack.add(
    (_next, context) => async (args) => ({
      output: { $metadata: { httpStatusCode: 200 }, ...(await answer(context.commandName ?? '', args.input) as object) },
      response: {},
    }),
    { step: 'initialize', priority: 'low', name: 'fakeService' },
  );
}
