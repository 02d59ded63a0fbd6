import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import CompactRecServer
import Foundation
import Logging

/// `compactrec serve`: an HTTP server that scores rows with a model file.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model file over HTTP: POST /v1/predict, GET /v1/model, GET /health.",
        discussion: """
            POST /v1/predict with {"rows": [{"C1": "68fd1e64", "I1": 5, ...}, ...]} (raw values by \\
            field name; fields may be left out) returns {"scores": [...]}, the click probabilities \\
            predict would give. Dense fields take numbers, categorical fields strings (or \\
            integers), multi-valued fields arrays of strings; null means missing. Bad JSON, a \\
            wrong type or an unknown field is answered 400, a body over --max-body-bytes or more \\
            than --max-rows rows 413, with {"error": {"message": ...}}. GET /v1/model describes \\
            the fields, widths and sizes; GET /health answers {"status":"ok"}.

            Logs go to stderr (swift-log; --log-level debug logs every scored request). Ctrl-C or \\
            SIGTERM stops the server after the requests in flight.

            Example:
              compactrec serve --model deepfm.crmodel --port 8080
              curl -d '{"rows": [{"I1": 5, "C1": "68fd1e64"}]}' localhost:8080/v1/predict
            """
    )

    @Option(help: "A model file written by compactrec export or train --output NAME.crmodel.")
    var model: String

    @Option(help: "Address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0: any free port, printed when ready).")
    var port = 8080

    @Option(help: "Most rows per request.")
    var maxRows = 1000

    @Option(help: "Most bytes per request body.")
    var maxBodyBytes = 1 << 21

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxRows >= 1, maxBodyBytes >= 1 else { throw ValidationError("--max-rows and --max-body-bytes must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        var logger = Logger(label: "compactrec.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let predictor = try Predictor(path: model)
        let header = predictor.file.header
        logger.info(
            "loaded model",
            metadata: [
                "file": "\(model)", "model": "\(header.model.kind.rawValue)", "dim": "\(header.model.dimension)",
                "fields": "\(header.schema.fields.count)", "parameters": "\(header.totalParameters)",
                "bytes": "\(predictor.sections.total)",
            ])
        let server = ScoringServer(
            predictor: predictor, modelPath: model,
            configuration: .init(host: host, port: port, maxRows: maxRows, maxBodyBytes: maxBodyBytes),
            logger: logger)
        try await server.run()
    }
}
