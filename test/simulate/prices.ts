import { environments } from '../../cdk/config.js';

/**
 * Prices per instance-hour, Linux, us-east-1. On-Demand: AWS's published list price
 * (aws.amazon.com/ec2/pricing/on-demand, as of 2025). Spot: no list price exists (it moves
 * with supply and demand); the figure is a typical us-east-1 price of recent months as the Spot
 * price history shows it, an assumption to override with --spot-price.
 */
export const instancePrices: Readonly<Record<string, { onDemand: number; spot: number; spotNote: string }>> =
  {
    'g6.xlarge': {
      onDemand: 0.8048,
      spot: 0.3,
      spotNote: 'assumed typical Spot price (about 63 % below On-Demand); not a list price',
    },
    'g5.xlarge': {
      onDemand: 1.006,
      spot: 0.4,
      spotNote: 'assumed typical Spot price (about 60 % below On-Demand); not a list price',
    },
  };

export interface Deployment {
  readonly environment: string;
  readonly instanceType: string;
  readonly spotMax: number;
  readonly dedicatedMax: number;
  /** Launch and placement, weights copy at the volume's throughput, and the engine's own start-up. */
  readonly startupSeconds: number;
  readonly model: string;
}

/** Instance launch and ECS placement before the task starts pulling weights (an estimate). */
const LAUNCH_SECONDS = 90;

/** What the CDK app deploys for `name` (cdk/config.ts): the first instance type of the pools, their max workers, start-up. */
export function deployment(name: 'dev' | 'staging' | 'prod'): Deployment {
  const env = environments[name];
  const instanceType = env.pools.dedicated.instanceTypes[0] ?? 'g6.xlarge';
  const weightsSeconds = Math.ceil((env.engine.weights.sizeGiB * 1024) / env.instances.volumeThroughputMiBps);
  return {
    environment: name,
    instanceType,
    spotMax: env.pools.spot.maxWorkers,
    dedicatedMax: env.pools.dedicated.maxWorkers,
    startupSeconds: LAUNCH_SECONDS + weightsSeconds + env.engine.startupSeconds,
    model: env.engine.model,
  };
}
