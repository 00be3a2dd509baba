// One autocannon run described by a JSON file (written by benchmarks/autocannon_load.py); prints autocannon's
// result as JSON on stdout. Each request takes the next user round-robin, so every user sends the same share and
// a per-user rate limit is never what the run measures.
'use strict'
const fs = require('fs')
const autocannon = require('autocannon')

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
let next = 0
// autocannon sends a request's own `path` as given, dropping the URL's path: keep the stage path
// (/_aws/execute-api/<id>/<stage> on MiniStack, /<stage> on AWS) in front of every route.
const basePath = new URL(config.url).pathname.replace(/\/+$/, '')

function setupRequest (request) {
  const user = config.users[next++ % config.users.length]
  const headers = { ...config.headers }
  if (user.token) headers.authorization = `Bearer ${user.token}`
  return {
    ...request,
    path: basePath + config.path.replace('{id}', user.taskId || ''),
    headers,
    body: config.body === undefined ? undefined : JSON.stringify(config.body)
  }
}

autocannon({
  url: config.url,
  connections: config.connections,
  duration: config.duration,
  timeout: config.timeout,
  requests: [{ method: config.method, setupRequest }]
}, (error, result) => {
  if (error) {
    console.error(error)
    process.exit(1)
  }
  process.stdout.write(JSON.stringify(result))
})
