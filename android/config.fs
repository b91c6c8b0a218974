# A user and group of sctlsd's own (vendor AID), so that /dev/sctls and the
# daemon share nothing with other services. Add this file to the device's
# TARGET_FS_CONFIG_GEN in BoardConfig.mk; the name must start with
# AID_VENDOR_ and the value lie in the vendor range (2900-2999, 5000-5999):
# pick one the device does not use yet.
[AID_VENDOR_SCTLS]
value:2941
