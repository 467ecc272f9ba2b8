"""HTTP service and command line: wires the embedder (model/) to the catalog (index/)."""
