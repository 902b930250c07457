export { startSingleProcess, type SingleProcess } from './single-process';
export { startDemo, type Demo, type DemoOptions } from './demo';
