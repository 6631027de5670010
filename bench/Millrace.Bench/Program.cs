using Millrace.Bench;

return await BenchProgram.RunAsync(args);
