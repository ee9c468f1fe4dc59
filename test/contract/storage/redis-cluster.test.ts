/** The storage conformance suite on the redis-cluster backend. */
import { storeConformance } from '../../../broker/platform/storage/conformance.ts';
import { redisClusterBackend } from './backends.ts';

storeConformance(redisClusterBackend());
