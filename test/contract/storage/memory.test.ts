/** The storage conformance suite on the memory backend. */
import { storeConformance } from '../../../broker/platform/storage/conformance.ts';
import { memoryBackend } from './backends.ts';

storeConformance(memoryBackend());
