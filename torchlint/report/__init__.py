"""What the user sees: suppression comments and the output formats."""
