package dev.kiln.spark;

import org.apache.spark.sql.SparkSession;

/** The one local-mode SparkSession the tests share (starting one costs seconds): 4 task slots, no UI, retries allowed. */
final class Spark {
    private static SparkSession session;

    private Spark() {}

    /** Stops the shared session (a test that needs a SparkContext of its own calls this first; local() starts another). */
    static synchronized void stop() {
        if (session != null) session.stop();
        session = null;
    }

    static synchronized SparkSession local() {
        if (session == null) {
            session = SparkSession.builder().appName("kiln-spark-tests")
                    // 4 slots (a barrier stage of 4 tasks needs them), each failed task retried up to 3 times
                    .master("local[4,4]")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            session.sparkContext().setLogLevel("ERROR");
        }
        return session;
    }
}
