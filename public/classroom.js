// Loads the site's bundle on a call page for the classroom tools (polls),
// which the call's bundles leave out to stay within their size budget
// (src/client/classroom.rs says how the two bundles talk).
import init, { mount_classroom } from '/pkg/huddle.js';
await init({ module_or_path: '/pkg/huddle_bg.wasm' });
mount_classroom();
