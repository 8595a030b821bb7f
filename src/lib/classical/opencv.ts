/**
 * Loads the OpenCV WASM build (@techstark/opencv-js) once. Its module object is "thenable" and
 * initialises asynchronously; awaiting it directly never settles (the module resolves to itself),
 * so we wait for `onRuntimeInitialized` and hand out the module behind a plain Promise.
 *
 * Memory model: every cv.Mat / cv.KeyPointVector / detector created from the returned object
 * lives on the WASM heap and must be `.delete()`d by whoever created it.
 */
import { BackendError } from '../errors';
import { withoutNewProcessHandlers } from '../util/process-handlers';

/** The OpenCV.js module. Its shipped typings are incomplete for the calls used here, hence `any`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OpenCv = any;

let ready: Promise<OpenCv> | undefined;

export function loadOpenCv(): Promise<OpenCv> {
  if (!ready) {
    ready = new Promise<OpenCv>((resolve, reject) => {
      let cv: OpenCv;
      // The Emscripten build installs process-wide handlers that turn ANY unhandled rejection into
      // an abort printing megabytes of its source; they are removed again right after loading.
      withoutNewProcessHandlers(() => {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        cv = require('@techstark/opencv-js');
      }).then(
        () => {
          const finish = () => {
            // Without this, returning the module from an async function would recurse on its `then`.
            delete cv.then;
            resolve(cv);
          };
          if (cv.Mat) finish();
          else cv.onRuntimeInitialized = finish;
        },
        (err: Error) => reject(new BackendError(`cannot load @techstark/opencv-js: ${err.message}`)),
      );
    });
  }
  return ready;
}

/** Deletes OpenCV objects, skipping ones never created. */
export function release(...objs: Array<{ delete(): void } | undefined | null>): void {
  for (const o of objs) if (o) o.delete();
}
