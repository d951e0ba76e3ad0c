"""WTForms: the builder for BPMN step forms, shared validators, and the portal's static forms."""
