/* drsn_int8_tiles.h is header-only (static inline tiles compiled per ISA module). */
