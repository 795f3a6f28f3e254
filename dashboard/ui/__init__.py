"""Layout pieces shared by the pages: frame (navbar, filter bar, freshness), states, grids, URL sync."""
