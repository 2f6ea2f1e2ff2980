/**
 * The Trainer port on TensorFlow.js: backend selection (async, once), the McMahan et al. 2017
 * models, a synchronous local-SGD trainer, and a pool running it in worker threads. See backend.ts,
 * model.ts, trainer.ts and pool.ts.
 */
export { BACKEND_ENV, describeBackend, hasKernel, parseBackend, requestedBackend, selectBackend, TF_BACKENDS, type TfBackend } from "./backend.ts"
export { architecture, initialWeights, isModelName, makeModel, MODELS, type ModelName, type ParamSpec, paramCount, type TfModel } from "./model.ts"
export { permutation, type Seed, seededRandom } from "./rng.ts"
export { disposeSharedModels, evaluateSync, layerTfjs, makeTfjsTrainer, type TfjsTrainerOptions } from "./trainer.ts"
export { defaultThreads, makeTrainerPool, type PooledTrainer, type TimedUpdate, type TrainerPool, type TrainerPoolOptions } from "./pool.ts"
