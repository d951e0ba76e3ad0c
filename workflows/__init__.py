"""Everything that touches SpiffWorkflow lives in this package; the rest of the portal calls `workflows.engine`."""
