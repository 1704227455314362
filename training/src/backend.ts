/**
 * The backend the training job runs on (DESIGN §6): the shared selection (native -> wasm -> cpu),
 * plus, on wasm, the gradient kernels in ./kernels without which it cannot train convolutions.
 */
import { type BackendName } from '@fer/shared';
import { selectBackend, type BackendChoice } from '@fer/shared/tfjs';

import { registerWasmTrainingKernels } from './kernels';

/**
 * Activates the best backend (or `preferred`) and makes it ready for training. Idempotent.
 *
 * @example const { name } = await selectTrainingBackend(); // 'wasm' here, with fast conv gradients
 * @throws Error when `preferred` is given and cannot be activated.
 */
export async function selectTrainingBackend(preferred?: BackendName): Promise<BackendChoice> {
  const choice = await selectBackend(preferred);
  if (choice.name === 'wasm') registerWasmTrainingKernels();
  return choice;
}
