// Module CalicoManifests. See DEVELOPERS.md for its role.
