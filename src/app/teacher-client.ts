// Main-thread handle on workers/teacher.worker.ts.
import * as Comlink from 'comlink';
import type { TeacherWorkerApi } from '../../workers/teacher.worker.ts';

let remote: Comlink.Remote<TeacherWorkerApi> | undefined;

export function teacherWorker(): Comlink.Remote<TeacherWorkerApi> {
  if (!remote) {
    const worker = new Worker(new URL('../../workers/teacher.worker.ts', import.meta.url), { type: 'module', name: 'teacher' });
    remote = Comlink.wrap<TeacherWorkerApi>(worker);
  }
  return remote;
}

export { Comlink };
