"""HTTP routes, one module per group; `app.main` includes them."""
