// Module GardenerExtensions. See DEVELOPERS.md for its role.
