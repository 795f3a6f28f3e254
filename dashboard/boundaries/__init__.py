"""Optional block polygons: an administrator uploads a district's block boundaries as GeoJSON keyed by block LGD
code; they are validated against ``dim_block``, simplified and stored as a static file beside the district
boundaries (``AROGYA_GEO_DIR/blocks_<district LGD>.geojson``). The warehouse never changes."""

from dashboard.boundaries.store import StoredBlocks, block_file_name, remove_blocks, stored_blocks
from dashboard.boundaries.upload import UploadResult, upload_blocks
from dashboard.boundaries.validate import CODE_PROPERTIES, BlockGeoError

__all__ = [
    "CODE_PROPERTIES",
    "BlockGeoError",
    "StoredBlocks",
    "UploadResult",
    "block_file_name",
    "remove_blocks",
    "stored_blocks",
    "upload_blocks",
]
