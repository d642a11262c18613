/** Locates the shared Porcupine conformance data from this file's place in the repository. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: packages/sim/test/linearizability is four levels down. */
export const repoRoot = path.resolve(here, '../../../..');
/** Porcupine's histories, in ../shared/conformance/porcupine beside the repository. */
export const porcupineDir = path.resolve(repoRoot, '../shared/conformance/porcupine');
