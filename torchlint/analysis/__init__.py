"""Reading the code: sites, the semantic model, the abstract interpreter, values, shapes and the torch API model."""
