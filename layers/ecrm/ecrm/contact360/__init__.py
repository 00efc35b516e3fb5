"""Contact 360: one contact as every capability holds them (the complete GDPR export)."""
