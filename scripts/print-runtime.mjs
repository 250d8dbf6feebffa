// CI must show which Node actually ran the suite: npm puts node_modules/.bin first on PATH,
// so this is the pinned `node` devDependency, not the machine's own Node.
const major = Number(process.versions.node.split('.')[0]);
console.log(`kube-iaas test run on Node ${process.version} (${process.execPath})`);
if (major < 24) {
  console.error(`expected Node 24 from the pinned "node" devDependency, got ${process.version}; run npm ci`);
  process.exit(1);
}
