/**
 * The Trainer port on TensorFlow.js: backend selection (async, once), the McMahan et al. 2017
 * models, and a synchronous local-SGD trainer. See backend.ts, model.ts and trainer.ts.
 */
export { BACKEND_ENV, describeBackend, hasKernel, parseBackend, requestedBackend, selectBackend, TF_BACKENDS, type TfBackend } from "./backend.ts"
export { architecture, initialWeights, isModelName, makeModel, MODELS, type ModelName, type ParamSpec, paramCount, type TfModel } from "./model.ts"
export { permutation, type Seed, seededRandom } from "./rng.ts"
export { disposeSharedModels, evaluateSync, layerTfjs, makeTfjsTrainer, type TfjsTrainerOptions } from "./trainer.ts"
