// The process modeler page (app/templates/processes/modeler.html): bpmn-js Modeler.
import Modeler from "bpmn-js/lib/Modeler";

const canvas = document.getElementById("modeler-canvas");
if (canvas) {
  window.mesaModeler = new Modeler({ container: canvas });
}
