package dev.kiln.data;

/** The type of a CSV column: how it becomes features. */
public enum ColumnType {
    /** Decimal numbers; becomes one feature, optionally standardised. */
    NUMERIC,
    /** A few distinct labels; becomes one one-hot feature per category (sorted order). */
    CATEGORICAL,
    /** Free text (names, ids); has no numeric meaning and must be dropped from the features. */
    TEXT
}
