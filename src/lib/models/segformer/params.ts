// ParamStore moved to models/params.ts (shared by every model family); this re-export keeps old imports working.
export { ParamStore, type ParamInfo } from '../params';
