/**
 * Files imported `with { type: "file" }` (src/assets.ts): Bun hands back the
 * file's path — in node_modules from source, inside the compiled binary there.
 */
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.data" {
  const path: string;
  export default path;
}
declare module "@jitl/quickjs-wasmfile-release-sync/wasm" {
  const path: string;
  export default path;
}
