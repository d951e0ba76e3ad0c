"""Upload-time validation of a procedure's BPMN (and its DMN tables) against docs/BPMN.md.

Everything we cannot run is refused here, with the file, line, element id and a plain reason, so that nothing
is discovered at run time. No exception escapes: an unexpected error becomes a Problem too.

Modules, in the order `validate_bpmn` runs them:

- `problems`: `Problem`, the report that collects them, and the guard that turns a crash into a problem;
- `context`: what the checks share (the parsed file, known decisions and names) and small XML helpers;
- `structure`: size, XML safety, well-formedness, the XSD schema, one executable process;
- `elements`: supported BPMN elements and Camunda extensions, script and business rule tasks;
- `external`: external service tasks: topic (with a handler), input/output parameters, retry cycle;
- `steps`: process and step properties, roles, forms;
- `ids`: ids of form fields and enum options that are also the ids of BPMN elements;
- `expressions`: conditions, scripts, timers and message payloads, and the names they may read;
- `graph`: references, sequence flows, gateways, loops of automatic steps;
- `spiff`: what SpiffWorkflow's own parser says about an otherwise clean file;
- `dmn`: DMN decision tables (`validate_dmn`) and what a BPMN file needs to know about them;
- `bpmn`: `validate_bpmn`, the entry point.
"""

from workflows.validation.bpmn import validate_bpmn
from workflows.validation.dmn import validate_dmn
from workflows.validation.problems import Problem
from workflows.validation.structure import MAX_BPMN_BYTES

__all__ = ["MAX_BPMN_BYTES", "Problem", "validate_bpmn", "validate_dmn"]
