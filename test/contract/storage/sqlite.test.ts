/** The storage conformance suite on the sqlite backend. */
import { storeConformance } from '../../../broker/platform/storage/conformance.ts';
import { sqliteBackend } from './backends.ts';

storeConformance(sqliteBackend());
