// Module EmbeddedAPIServer. See DEVELOPERS.md for its role.
