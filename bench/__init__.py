"""The performance bench of issue 5: the mock measured side by side with its peers.

`python -m bench` (or `make bench`) loads three servers from a separate wrk process, one at a time,
with the same requests on the same machine: the mock, a bare Starlette app that answers the very
bytes the mock answered (the ceiling of our stack), and Stoplight Prism mocking the same spec. It
then measures the mock's reads as the store grows, its start-up time and memory, and the contract
suite's full run when the contracts have a CLI. Results are printed as a table and written as JSON
to bench/results/.

One module per job: settings (what to run), tools (wrk, Prism, py-spy, installed when missing),
workloads (the requests), targets (starting and stopping servers), capture (the mock's answers
for the bare app), load (wrk), compare/scale/contract_suite/hotspots (the phases), report.
"""
