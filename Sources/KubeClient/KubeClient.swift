// Module KubeClient. See DEVELOPERS.md for its role.
