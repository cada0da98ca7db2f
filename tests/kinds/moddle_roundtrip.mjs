// Reads a diagram with the modeler's own moddle (bpmn-js's, with our spiffworkflow and mesa
// descriptors) and writes it back as the modeler's save does; prints what it wrote.
import fs from "fs";
import { pathToFileURL } from "url";

const [, , root, file] = process.argv;
const { BpmnModdle } = await import(
  pathToFileURL(`${root}/node_modules/bpmn-moddle/dist/index.js`).href);
const descriptor = (name) => JSON.parse(fs.readFileSync(`${root}/frontend/modeler/descriptors/${name}.json`));
const moddle = new BpmnModdle({ spiffworkflow: descriptor("spiffworkflow"), mesa: descriptor("mesa") });
const { rootElement, warnings } = await moddle.fromXML(fs.readFileSync(file, "utf8"));
if (warnings.length) {
  console.error(warnings.map((w) => w.message).join("\n"));
  process.exit(2);
}
const { xml } = await moddle.toXML(rootElement, { format: true });
process.stdout.write(xml);
