// Module KubeRuntime. See DEVELOPERS.md for its role.
