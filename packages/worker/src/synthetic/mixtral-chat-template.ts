/**
 * `tokenizer.chat_template` of Mixtral-8x7B-Instruct-v0.1 as its tokenizer_config.json shipped it
 * (the revision the GGUF conversions in use carry), verbatim: synthetic models carry it so that
 * node-llama-cpp resolves the same chat wrapper for them as for a real Mixtral file, and
 * `orchard generate` formats `<s>[INST] … [/INST]` exactly as it would for the real model.
 */
export const MIXTRAL_INSTRUCT_CHAT_TEMPLATE =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}" +
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";
