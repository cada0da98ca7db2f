// Reading and writing what our engine reads in a diagram, through bpmn-js modeling commands
// (so every change can be undone): spiffworkflow:properties of user tasks and of the process
// (its kind of work), mesa:form,
// spiffworkflow:serviceTaskOperator, gateway conditions and default flows, timer values.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

export const FIELD_TYPES = ["text", "longtext", "number", "date", "choice", "boolean"];
export const FIELD_NAME = /^[a-z][a-z0-9_]*$/;
export const PARAMETER_TYPES = ["str", "int", "float", "bool"];
// Attributes of a mesa:field besides name/type/label/required, by field type.
export const FIELD_LIMITS = {
  text: ["minLength", "maxLength"],
  longtext: ["minLength", "maxLength"],
  number: ["min", "max"],
  date: ["min", "max"],
  choice: [],
  boolean: [],
};
const TIMER_KINDS = ["timeDuration", "timeDate", "timeCycle"];
// The process's kind of work (app/kinds): a property of the process element; absent: request.
export const KIND_PROPERTY = "kind";
export const DEFAULT_KIND = "request";

/** Groups several modeling commands into one step of the undo history. */
export function BatchCommand(commandStack) {
  commandStack.registerHandler("mesa.batch", function BatchHandler() {
    this.preExecute = (context) => context.apply();
    this.execute = () => [];
    this.revert = () => [];
  });
}
BatchCommand.$inject = ["commandStack"];

export const batchModule = {
  __init__: ["mesaBatchCommand"],
  mesaBatchCommand: ["type", BatchCommand],
};

function blank(value) {
  return value === undefined || value === null || String(value).trim() === "";
}

export function createModel(modeler) {
  const modeling = modeler.get("modeling");
  const moddle = modeler.get("moddle");
  const bpmnFactory = modeler.get("bpmnFactory");
  const commandStack = modeler.get("commandStack");

  function batch(apply) {
    commandStack.execute("mesa.batch", { apply });
  }

  function extensionValues(bo) {
    return (bo.extensionElements && bo.extensionElements.get("values")) || [];
  }

  /**
   * Puts `replacement` in place of every extension element of `type` (null removes them), on
   * `bo`: the element's own business object, or another one it stands for (a pool's process).
   */
  function setExtension(element, type, replacement, bo = getBusinessObject(element)) {
    // The element's own properties through updateProperties (as bpmn-js does); another
    // business object's through updateModdleProperties, with the element shown as changed.
    const update = bo === getBusinessObject(element)
      ? (properties) => modeling.updateProperties(element, properties)
      : (properties) => modeling.updateModdleProperties(element, bo, properties);
    const current = extensionValues(bo);
    const position = current.findIndex((value) => is(value, type));
    const next = current.filter((value) => !is(value, type));
    if (replacement) {
      next.splice(position === -1 ? next.length : Math.min(position, next.length), 0,
        replacement);
    }
    if (bo.extensionElements) {
      if (replacement) {
        replacement.$parent = bo.extensionElements;
      }
      if (next.length === 0) {
        update({ extensionElements: undefined });
      } else {
        modeling.updateModdleProperties(element, bo.extensionElements, { values: next });
      }
    } else if (replacement) {
      const container = bpmnFactory.create("bpmn:ExtensionElements", { values: next });
      container.$parent = bo;
      replacement.$parent = container;
      update({ extensionElements: container });
    }
  }

  function create(type, attrs, children = {}) {
    const clean = {};
    for (const [name, value] of Object.entries(attrs)) {
      if (!blank(value)) {
        clean[name] = String(value).trim();
      }
    }
    const created = moddle.create(type, clean);
    for (const [name, list] of Object.entries(children)) {
      for (const child of list) {
        child.$parent = created;
      }
      created.set(name, list);
    }
    return created;
  }

  // --- spiffworkflow:properties (handlers, request_status, ticket_status) ---

  function getProperties(element, bo = getBusinessObject(element)) {
    const found = new Map();
    for (const container of extensionValues(bo)) {
      if (is(container, "spiffworkflow:Properties")) {
        for (const property of container.get("properties")) {
          if (property.name) {
            found.set(property.name, property.value || "");
          }
        }
      }
    }
    return found;
  }

  function setProperty(element, name, value, bo = getBusinessObject(element)) {
    const properties = getProperties(element, bo);
    if (blank(value)) {
      properties.delete(name);
    } else {
      properties.set(name, value);
    }
    const list = [...properties].map(([key, text]) => create("spiffworkflow:Property",
      { name: key, value: text }));
    setExtension(element, "spiffworkflow:Properties", list.length
      ? create("spiffworkflow:Properties", {}, { properties: list }) : null, bo);
  }

  function getHandlers(element) {
    return (getProperties(element).get("handlers") || "").split(",")
      .map((name) => name.trim()).filter(Boolean);
  }

  function setHandlers(element, names) {
    setProperty(element, "handlers", names.join(","));
  }

  // --- the process's own properties: its kind of work (app/kinds) ---

  /**
   * The process a pool, or the canvas's root (a process, or a collaboration of pools: its
   * executable process first), stands for; null for any other element or an empty pool.
   */
  function processOf(element) {
    const bo = getBusinessObject(element);
    if (is(bo, "bpmn:Process")) {
      return bo;
    }
    if (is(bo, "bpmn:Participant")) {
      return bo.processRef || null;
    }
    if (is(bo, "bpmn:Collaboration")) {
      const found = (bo.participants || []).map((p) => p.processRef).filter(Boolean);
      return found.find((process) => process.isExecutable) || found[0] || null;
    }
    return null;
  }

  /** The kind the process names ("" when it names none, which means a service request). */
  function getKind(element) {
    const process = processOf(element);
    return process ? getProperties(element, process).get(KIND_PROPERTY) || "" : "";
  }

  /** Names `kind`; the default kind (request) is the absence of the property, as the server
   * writes it. */
  function setKind(element, kind) {
    const process = processOf(element);
    if (process) {
      setProperty(element, KIND_PROPERTY, kind === DEFAULT_KIND ? "" : kind, process);
    }
  }

  // --- mesa:form ---

  /** The task's form as plain objects: [{name, type, label, required, ..., options}]. */
  function getForm(element) {
    const form = extensionValues(getBusinessObject(element)).find((v) => is(v, "mesa:Form"));
    if (!form) {
      return [];
    }
    return form.get("fields").map((field) => ({
      name: field.name || "",
      type: field.type || "text",
      label: field.label || "",
      required: field.required === "true",
      minLength: field.minLength || "",
      maxLength: field.maxLength || "",
      min: field.min || "",
      max: field.max || "",
      options: field.get("options").map((option) => ({
        value: option.value || "", label: option.label || "",
      })),
    }));
  }

  function setForm(element, fields) {
    if (fields.length === 0) {
      setExtension(element, "mesa:Form", null);
      return;
    }
    const created = fields.map((field) => {
      const limits = FIELD_LIMITS[field.type] || [];
      const attrs = { name: field.name, type: field.type, label: field.label };
      if (field.required) {
        attrs.required = "true";
      }
      for (const limit of limits) {
        attrs[limit] = field[limit];
      }
      const options = field.type === "choice"
        ? field.options.map((option) => create("mesa:Option", option)) : [];
      return create("mesa:Field", attrs, options.length ? { options } : {});
    });
    setExtension(element, "mesa:Form", create("mesa:Form", {}, { fields: created }));
  }

  // --- spiffworkflow:serviceTaskOperator ---

  function getOperator(element) {
    const operator = extensionValues(getBusinessObject(element))
      .find((v) => is(v, "spiffworkflow:ServiceTaskOperator"));
    if (!operator) {
      return null;
    }
    const list = operator.parameterList ? operator.parameterList.get("parameters") : [];
    return {
      id: operator.id || "",
      resultVariable: operator.resultVariable || "",
      parameters: list.map((p) => ({ id: p.id || "", type: p.type || "str", value: p.value || "" })),
    };
  }

  function setOperator(element, operator) {
    if (!operator || blank(operator.id)) {
      setExtension(element, "spiffworkflow:ServiceTaskOperator", null);
      return;
    }
    const parameters = operator.parameters.map((p) => create("spiffworkflow:Parameter", p));
    const created = create("spiffworkflow:ServiceTaskOperator",
      { id: operator.id, resultVariable: operator.resultVariable });
    const list = create("spiffworkflow:Parameters", {}, { parameters });
    list.$parent = created;
    created.set("parameterList", list);
    setExtension(element, "spiffworkflow:ServiceTaskOperator", created);
  }

  // --- sequence flows: condition and default ---

  function getCondition(connection) {
    const expression = getBusinessObject(connection).conditionExpression;
    return expression ? expression.body || "" : "";
  }

  function conditionExpression(text) {
    return blank(text) ? undefined
      : bpmnFactory.create("bpmn:FormalExpression", { body: text.trim() });
  }

  function setCondition(connection, text) {
    modeling.updateProperties(connection, { conditionExpression: conditionExpression(text) });
  }

  function isDefaultFlow(connection) {
    const source = connection.source;
    return Boolean(source && getBusinessObject(source).default
      === getBusinessObject(connection));
  }

  function setDefaultFlow(connection, on) {
    const source = connection.source;
    batch(() => {
      if (on) {
        modeling.updateProperties(source, { default: getBusinessObject(connection) });
        if (getCondition(connection)) {
          setCondition(connection, "");
        }
      } else {
        modeling.updateProperties(source, { default: undefined });
      }
    });
  }

  // --- timers ---

  function timerDefinition(element) {
    return (getBusinessObject(element).eventDefinitions || [])
      .find((definition) => is(definition, "bpmn:TimerEventDefinition")) || null;
  }

  /** {kind, value}: the value as a person writes it (PT48H, a setting name). */
  function getTimer(element) {
    const definition = timerDefinition(element);
    if (!definition) {
      return null;
    }
    const kind = TIMER_KINDS.find((name) => definition[name]) || "timeDuration";
    const body = definition[kind] ? (definition[kind].body || "").trim() : "";
    const quoted = body.match(/^(['"])(.*)\1$/);
    return { kind, value: quoted ? quoted[2] : body };
  }

  /**
   * Timer values are expressions: a company setting is a bare name, a literal ISO 8601 value
   * must be quoted text ('PT48H'); anything already written as an expression stays as it is.
   */
  function timerExpression(value) {
    const text = (value || "").trim();
    if (!text || /['"\\()]/.test(text)) {
      return text;
    }
    if (/^[a-z_][a-z0-9_]*$/.test(text)) {
      return text;
    }
    return `'${text}'`;
  }

  function setTimer(element, kind, value) {
    const definition = timerDefinition(element);
    if (!definition) {
      return;
    }
    const properties = {};
    for (const name of TIMER_KINDS) {
      properties[name] = undefined;
    }
    properties[kind] = conditionExpression(timerExpression(value));
    modeling.updateModdleProperties(element, definition, properties);
  }

  // --- names and lanes ---

  function setName(element, name) {
    if (is(element, "bpmn:Lane") || is(element, "bpmn:Participant")) {
      modeling.updateProperties(element, { name: blank(name) ? undefined : name.trim() });
    } else {
      modeling.updateLabel(element, blank(name) ? null : name.trim());
    }
  }

  /** The lane a flow node is in (the innermost one), or null. */
  function laneOf(element) {
    const bo = getBusinessObject(element);
    const lanes = bo.get ? bo.get("lanes") : [];
    if (lanes && lanes.length) {
      return lanes[lanes.length - 1];
    }
    return null;
  }

  return {
    batch,
    getProperties,
    setProperty,
    getHandlers,
    setHandlers,
    processOf,
    getKind,
    setKind,
    getForm,
    setForm,
    getOperator,
    setOperator,
    getCondition,
    setCondition,
    isDefaultFlow,
    setDefaultFlow,
    getTimer,
    setTimer,
    setName,
    laneOf,
  };
}
