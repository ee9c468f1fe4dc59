/** The storage conformance suite on the postgres backend. */
import { storeConformance } from '../../../broker/platform/storage/conformance.ts';
import { postgresBackend } from './backends.ts';

storeConformance(postgresBackend());
