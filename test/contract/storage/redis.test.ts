/** The storage conformance suite on the redis backend. */
import { storeConformance } from '../../../broker/platform/storage/conformance.ts';
import { redisBackend } from './backends.ts';

storeConformance(redisBackend());
