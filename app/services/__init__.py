"""Business rules that are not a task: numbering, filing, workflow hosting, inbox queries."""
