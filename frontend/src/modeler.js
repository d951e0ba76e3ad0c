// The procedure modeler of the admin pages: bpmn-js with the properties panel and the Camunda 7 extensions
// (candidate groups, generated form fields, extension properties, conditions, timers), as Camunda Modeler
// writes them. Bundled by build-modeler.sh into portal/static/vendor/bpmn-modeler/ and committed: the portal
// never needs Node or a CDN. portal/static/js/admin/modeler.js drives it.
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";

export function createModeler(container, panel) {
  return new BpmnModeler({
    container: container,
    propertiesPanel: { parent: panel },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
    ],
    moddleExtensions: { camunda: camundaModdle },
  });
}

// Files without a diagram layout are laid out before they are opened (see auto-layout.js).
export { hasLayout, layout } from "./auto-layout.js";
