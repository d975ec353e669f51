//! `docs/signaling-protocol.md`'s example, replayed against a real server:
//! every message it shows sent is sent, every message it shows received
//! must arrive, in that order, with every field it shows. A client written
//! from the document then meets the server it describes.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_app, Socket, Visitor};

const DOCUMENT: &str = include_str!("../../docs/signaling-protocol.md");

/// One step of the example.
#[derive(Debug)]
enum Step {
    Send {
        who: String,
        message: Value,
    },
    Receive {
        who: String,
        message: Value,
    },
    /// `who`'s network drops (the connection ends without a goodbye), and
    /// a new one is opened.
    Drop {
        who: String,
    },
}

/// The steps of the document's `## Example` code block.
fn example() -> Vec<Step> {
    let section = DOCUMENT.split("## Example").nth(1).expect("the document has an example");
    let block = section.split("```").nth(1).expect("the example is a code block");
    let mut steps = Vec::new();
    let mut lines = block.lines().filter(|l| !l.trim().is_empty()).peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if let Some(aside) = trimmed.strip_prefix('(') {
            let who = aside.split('\'').next().expect("an aside names whose network drops").to_string();
            assert!(aside.contains("drops"), "an aside the replay does not know: {trimmed}");
            steps.push(Step::Drop { who });
            continue;
        }
        let (who, rest) = trimmed.split_once(' ').expect("a line starts with who");
        let rest = rest.trim_start();
        let (arrow, mut json) = (rest.chars().next().expect("an arrow"), rest[rest.char_indices().nth(1).map_or(0, |(i, _)| i)..].trim().to_string());
        // A message may go on over the next, indented lines.
        while serde_json::from_str::<Value>(&json).is_err() {
            let more = lines.next().unwrap_or_else(|| panic!("a message that never closes: {json}"));
            json.push_str(more.trim());
        }
        let message: Value = serde_json::from_str(&json).unwrap();
        let who = who.to_string();
        steps.push(match arrow {
            '→' => Step::Send { who, message },
            '←' => Step::Receive { who, message },
            other => panic!("unknown arrow {other:?} in {trimmed}"),
        });
    }
    steps
}

/// What the replay learned: the real ids behind the document's, each
/// party's resume token, and the real room.
struct Replay {
    ids: HashMap<u64, u64>,
    tokens: HashMap<String, String>,
    slug: String,
}

impl Replay {
    /// The document's message as it is sent for real.
    fn outgoing(&self, who: &str, message: &Value) -> Value {
        let mut message = message.clone();
        let object = message.as_object_mut().expect("a message is an object");
        for (key, value) in object.iter_mut() {
            match key.as_str() {
                "room" => *value = Value::from(self.slug.clone()),
                "token" => *value = Value::from(self.tokens.get(who).expect("a token given before it is used").clone()),
                "to" => *value = Value::from(self.real_id(value)),
                _ => {}
            }
        }
        message
    }

    fn real_id(&self, documented: &Value) -> u64 {
        let id = documented.as_u64().expect("an id is a number");
        *self.ids.get(&id).unwrap_or_else(|| panic!("id {id} used before the document gave it"))
    }

    /// Whether `got` carries every field `documented` shows, with its
    /// value; `…` in a string stands for anything, a time for any time.
    fn check(&mut self, who: &str, key: &str, documented: &Value, got: &Value) -> Result<(), String> {
        match (documented, got) {
            (Value::Object(doc), Value::Object(real)) => {
                for (field, value) in doc {
                    let real_value = real.get(field).ok_or_else(|| format!("no `{field}` in {got}"))?;
                    self.check(who, field, value, real_value)?;
                }
                Ok(())
            }
            (Value::Array(doc), Value::Array(real)) => {
                if doc.len() != real.len() {
                    return Err(format!("`{key}` has {} items, the document shows {}", real.len(), doc.len()));
                }
                doc.iter().zip(real).try_for_each(|(d, r)| self.check(who, key, d, r))
            }
            (Value::Number(doc), Value::Number(real)) if matches!(key, "id" | "from" | "to") => {
                let doc = doc.as_u64().unwrap();
                let real = real.as_u64().ok_or("an id that is no whole number")?;
                match self.ids.get(&doc) {
                    Some(known) if *known == real => Ok(()),
                    Some(known) => Err(format!("id {doc} is {known} here, not {real}")),
                    None => {
                        self.ids.insert(doc, real);
                        Ok(())
                    }
                }
            }
            (Value::Number(_), Value::Number(_)) if key.ends_with("_ms") => Ok(()),
            (Value::String(doc), Value::String(real)) if doc.contains('…') => {
                if key == "resume_token" {
                    self.tokens.insert(who.to_string(), real.clone());
                }
                Ok(())
            }
            (doc, real) if doc == real => Ok(()),
            (doc, real) => Err(format!("`{key}` is {real}, the document shows {doc}")),
        }
    }
}

async fn receive(socket: &mut Socket) -> Value {
    match socket.next_frame(Duration::from_secs(5)).await {
        Some(Message::Text(text)) => serde_json::from_str(text.as_str()).expect("JSON from the server"),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn the_documents_example_is_what_the_server_does() {
    let steps = example();
    assert!(steps.len() >= 10, "the example was read: {steps:?}");
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let browsers: HashMap<&str, Visitor> = [("Host", host), ("Pat", app.visitor())].into_iter().collect();
    let mut sockets: HashMap<String, Socket> = HashMap::new();
    let mut replay = Replay { ids: HashMap::new(), tokens: HashMap::new(), slug: room.slug.clone() };
    for (n, step) in steps.iter().enumerate() {
        match step {
            Step::Send { who, message } => {
                let browser = browsers.get(who.as_str()).unwrap_or_else(|| panic!("step {n}: nobody called {who}"));
                if !sockets.contains_key(who) {
                    sockets.insert(who.clone(), browser.socket().await);
                }
                let message = replay.outgoing(who, message);
                sockets.get_mut(who).unwrap().send_text(&message.to_string()).await;
            }
            Step::Receive { who, message } => {
                let socket = sockets.get_mut(who).unwrap_or_else(|| panic!("step {n}: {who} has no connection yet"));
                let got = receive(socket).await;
                if let Err(e) = replay.check(who, "", message, &got) {
                    panic!("step {n}, {who} ←: {e}\n  the document: {message}\n  the server:   {got}");
                }
            }
            Step::Drop { who } => {
                sockets.remove(who).expect("a connection to drop").cut();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    // Nothing more than the example shows came.
    for (who, socket) in &mut sockets {
        if let Some(frame) = socket.next_frame(Duration::from_millis(300)).await {
            panic!("{who} got a message the example does not show: {frame:?}");
        }
    }
}
